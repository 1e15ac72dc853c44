from . import rules


def roles(request):
    user = request.user
    return {
        "viewer_is_moderator": rules.is_moderator(user),
        "viewer_is_staff": rules.is_staff_member(user),
        "viewer_is_csr": rules.is_csr(user),
        "viewer_is_expert": rules.is_certified_expert(user),
    }
