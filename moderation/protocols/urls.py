from django.urls import path

from . import views

# Included by moderation.urls, so names live in the "moderation" namespace under /staff/.
urlpatterns = [
    path("my-queue/", views.my_queue, name="my_queue"),
    path("threads/<int:pk>/claim/", views.claim, name="assignment_claim"),
    path("threads/<int:pk>/release/", views.release, name="assignment_release"),
    path("threads/<int:pk>/reassign/", views.reassign, name="assignment_reassign"),
    path("protocols/", views.protocol_list, name="protocol_list"),
    path("protocols/new/", views.protocol_edit, name="protocol_create"),
    path("protocols/<int:pk>/", views.protocol_edit, name="protocol_edit"),
]
