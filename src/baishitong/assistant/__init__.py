"""政务君, the citizen-facing assistant: pure answering, ticket prefill and question grouping."""

from baishitong.assistant.core import (
    Answer,
    Citation,
    Group,
    Turn,
    answer,
    group_questions,
    phrase_with_llm,
    prefill_ticket,
)

__all__ = ["Answer", "Citation", "Group", "Turn", "answer", "group_questions", "phrase_with_llm", "prefill_ticket"]
