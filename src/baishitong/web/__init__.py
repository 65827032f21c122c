"""Server-rendered pages: the public service site and the staff workbenches."""
