"""Project-authored demo and reference content (pure data, no database code).

* :mod:`.units`      – ``UNITS`` organisational units (centre, departments,
  towns, communities from the gazetteer, utilities)
* :mod:`.categories` – ``CATEGORIES`` 3-level taxonomy and ``DEFAULT_LEAD``
* :mod:`.orders`     – ``generate_orders()`` deterministic demo work orders
* :mod:`.catalogue`  – ``SERVICE_ITEMS`` and ``KB_ARTICLES``

All texts are fictional and written for this project.
"""
