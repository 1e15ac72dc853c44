from django import forms


class SignupForm(forms.Form):
    """Extra sign-up field for allauth: the public display name."""

    display_name = forms.CharField(max_length=80, required=False, help_text="Shown on your posts.")

    def signup(self, request, user):
        user.display_name = self.cleaned_data.get("display_name", "")
        user.save(update_fields=["display_name"])
