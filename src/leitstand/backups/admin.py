from __future__ import annotations

from django.contrib import admin

from leitstand.backups.models import BackupPolicy


@admin.register(BackupPolicy)
class BackupPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "keep_months", "keep_seconds")
