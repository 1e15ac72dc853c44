# Moderation owns no content models yet: flags and protocols arrive with issue #4. The audit log
# lives in community (the bottom of the dependency chain) so every app can write to it.
