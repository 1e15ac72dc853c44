"""submit_form_action: the form → service → message and redirect step shared by HTML views."""

from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from community.views_helpers import submit_form_action


class DaysForm(forms.Form):
    reason = forms.CharField()
    days = forms.IntegerField(required=False)


def post_request(data):
    request = RequestFactory().post("/somewhere/", data)
    request._messages = CookieStorage(request)
    return request


def failing(errors):
    def action(data):
        raise ValidationError(errors)

    return action


def test_a_successful_action_flashes_its_message_and_redirects_where_asked():
    request = post_request({"reason": "spam"})
    seen = []

    response = submit_form_action(
        request,
        DaysForm(request.POST),
        seen.append,
        success="Done.",
        redirect_to="/back/",
    )

    assert response.status_code == 302
    assert response.url == "/back/"
    assert seen == [{"reason": "spam", "days": None}]
    assert [str(m) for m in get_messages(request)] == ["Done."]


def test_without_a_target_it_redirects_to_what_the_action_returned():
    class Saved:
        def get_absolute_url(self):
            return "/saved/1/"

    request = post_request({"reason": "spam"})

    response = submit_form_action(
        request, DaysForm(request.POST), lambda data: Saved(), success="Saved."
    )

    assert response.url == "/saved/1/"


def test_invalid_input_runs_nothing_and_leaves_the_errors_on_the_form():
    request = post_request({})
    form = DaysForm(request.POST)
    seen = []

    assert submit_form_action(request, form, seen.append, success="Done.", redirect_to="/") is None
    assert seen == []
    assert "reason" in form.errors
    assert list(get_messages(request)) == []


def test_service_errors_land_on_the_form_with_renamed_fields_and_no_message():
    request = post_request({"reason": "spam", "days": "3"})
    form = DaysForm(request.POST)

    response = submit_form_action(
        request,
        form,
        failing({"duration": "Too long.", "status": "Already banned."}),
        success="Done.",
        redirect_to="/",
        field_map={"duration": "days"},
    )

    assert response is None
    assert form.errors["days"] == ["Too long."]
    assert form.non_field_errors() == ["Already banned."]
    assert list(get_messages(request)) == []
