from collections.abc import Mapping

from django import forms


class SignupForm(forms.Form):
    """Extra sign-up field for allauth: the public display name."""

    display_name = forms.CharField(max_length=80, required=False, help_text="Shown on your posts.")

    def signup(self, request, user):
        user.display_name = self.cleaned_data.get("display_name", "")
        user.save(update_fields=["display_name"])


# --- Forms of the community pages ------------------------------------------------------------
# They only shape input; the services own the rules (lengths, tag limits, image checks), and
# views copy a service's ValidationError back onto the form with ``add_service_errors``.

MARKDOWN_HELP = (
    "Markdown: **bold**, _italic_, `code`, [link](https://example.com), "
    "lines starting with - for lists, four-space indent or ``` for code blocks."
)


class AskForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=None, empty_label="Choose a product area", label="Product area"
    )
    title = forms.CharField(
        max_length=200,
        help_text="Say what you need in one specific sentence.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    body = forms.CharField(
        label="Details",
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    tags = forms.CharField(
        required=False,
        max_length=400,
        help_text="Up to 5 tags, separated by spaces or commas.",
    )

    # Set from "Ask this expert" (?expert=<username>); the service checks the person's queue.
    directed_to = forms.CharField(required=False, max_length=150, widget=forms.HiddenInput)
    private = forms.BooleanField(
        required=False,
        label="Private: only the expert and staff can see this question",
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas


class QuestionEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Details", help_text=MARKDOWN_HELP, widget=forms.Textarea(attrs={"rows": 12})
    )
    tags = forms.CharField(
        required=False, max_length=400, help_text="Separated by spaces or commas."
    )
    summary = forms.CharField(
        required=False,
        max_length=300,
        label="Edit summary",
        help_text="Briefly, what did you change?",
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label="Write your answer",
        help_text=MARKDOWN_HELP,
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class AnswerEditForm(forms.Form):
    body = forms.CharField(
        label="Answer", help_text=MARKDOWN_HELP, widget=forms.Textarea(attrs={"rows": 12})
    )
    summary = forms.CharField(
        required=False,
        max_length=300,
        label="Edit summary",
        help_text="Briefly, what did you change?",
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=80, required=False, help_text="Shown on your posts instead of your username."
    )
    bio = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 5}))
    # A plain FileField: the service checks the real image type, so a renamed file cannot pass.
    avatar = forms.FileField(
        required=False,
        help_text="PNG, JPEG, GIF or WebP, up to 1 MB.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    clear_avatar = forms.BooleanField(required=False, label="Remove my current picture")


def add_service_errors(form: forms.Form, exc, field_map: Mapping[str, str] | None = None) -> None:
    """Attach a service's ValidationError to ``form``: known fields inline, the rest on top.
    ``field_map`` renames service fields the form spells differently."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            field = (field_map or {}).get(name, name)
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
