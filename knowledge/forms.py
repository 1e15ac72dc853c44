"""HTML forms for the knowledge base. They parse input only; services validate and write."""

from __future__ import annotations

from django import forms

from community.models import Answer, ProductArea

from .models import AnswerCorrection, Article
from .search.base import DOC_TYPE_LABELS, TIER_LABELS

SEARCH_TYPE_CHOICES = [
    ("", "Everything"),
    ("article", DOC_TYPE_LABELS["article"]),
    ("thread_accepted", DOC_TYPE_LABELS["thread_accepted"]),
    ("thread", "Any community thread"),
]


class ValidateForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        label="Note",
        help_text="Optional: why this answer is right (shown with the validation).",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Confirmed on firmware 4.2"}),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        error_messages={"required": "Say briefly why the validation is revoked."},
        widget=forms.TextInput(attrs={"placeholder": "Why is this validation withdrawn?"}),
    )


class ArticleEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    problem = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown.")
    solution = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), help_text="Markdown.")
    # Optional so an edit that leaves it out keeps the article's audience.
    audience = forms.ChoiceField(
        choices=Article.Audience.choices,
        required=False,
        help_text="Internal articles are shown only to CSRs and staff.",
    )
    note = forms.CharField(
        max_length=300, required=False, label="Edit summary", help_text="Shown in the history."
    )


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search")
    area = forms.SlugField(required=False)
    tag = forms.SlugField(max_length=64, required=False)
    type = forms.ChoiceField(choices=SEARCH_TYPE_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)
    tier = forms.ChoiceField(choices=[("", "Any standing"), *TIER_LABELS.items()], required=False)
    # "Search instead for" the words as typed: no automatic spelling correction.
    exact = forms.BooleanField(required=False)

    def params(self) -> dict:
        """Cleaned parameters; invalid values fall back to their defaults (a hand-edited URL
        should still search rather than fail)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        return {
            "q": (data["q"] or "").strip(),
            "area": data["area"] or None,
            "tag": data["tag"] or None,
            "type": data["type"] or None,
            "tier": data["tier"] or None,
            "page": data["page"] or 1,
            "exact": "1" if data["exact"] else None,
        }


# --- Trust: corrections, the article lifecycle, review (issue 3) -----------------------------


class CorrectForm(forms.Form):
    """Mark an answer not recommended: the alternative is another answer of the thread or a new
    one written here (choices are set per thread)."""

    kind = forms.ChoiceField(choices=AnswerCorrection.Kind.choices, initial="not_recommended")
    reason = forms.CharField(
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Firmware 3 removed this setting"}),
        error_messages={"required": "Say briefly why the answer is not recommended."},
    )
    alternative = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Recommended answer",
        help_text="An answer in this thread (it is validated in the same step), or write one below.",
    )
    alternative_body = forms.CharField(
        required=False,
        label="Or write the recommended answer",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. Posted as your answer and validated by you.",
    )

    def __init__(self, *args, answers: list[Answer] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alternative"].choices = [("", "— write a new answer below —")] + [
            (a.pk, f"Answer by {a.author.public_name} (score {a.score})") for a in answers
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Applies to v1 only"}),
        error_messages={"required": "Say briefly why."},
    )


class ArticleCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    area = forms.ModelChoiceField(queryset=ProductArea.objects.all(), empty_label=None)
    audience = forms.ChoiceField(
        choices=Article.Audience.choices,
        initial=Article.Audience.INTERNAL,
        help_text="Internal articles are shown only to CSRs and staff.",
    )
    problem = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown.")
    solution = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), help_text="Markdown.")
    tags = forms.CharField(max_length=300, required=False, help_text="Space-separated.")
    publish = forms.BooleanField(
        required=False, initial=True, help_text="Leave unticked to keep it as a draft."
    )


class ReviewActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("reapprove", "Re-approve the current text"),
            ("keep", "Keep the approved text"),
        ]
    )
    note = forms.CharField(max_length=300, required=False)


class SourceAddForm(forms.Form):
    answer = forms.IntegerField(
        min_value=1,
        label="Answer id",
        help_text="A validated answer from any thread (its id is in its link: #answer-<id>).",
    )


class ArticleDiffForm(forms.Form):
    from_ = forms.IntegerField(min_value=1)
    to = forms.IntegerField(min_value=1)

    def __init__(self, data=None, **kwargs):
        # "from" is a Python keyword: map the query parameter onto ``from_``.
        if data is not None:
            data = {"from_": data.get("from"), "to": data.get("to")}
        super().__init__(data, **kwargs)
