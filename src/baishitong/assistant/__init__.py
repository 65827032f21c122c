"""政务君, the citizen-facing assistant: pure answering (core), ticket prefill and question grouping."""
