from __future__ import annotations

from django.urls import path

from leitstand.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login-code"),
    path("logout/", views.logout, name="logout"),
    path("security/", views.security, name="security"),
    path("security/sessions/<int:pk>/end/", views.session_end, name="session-end"),
    path("security/sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
    path("security/totp/", views.totp_enrol, name="totp-enrol"),
    path("security/recovery-codes/", views.totp_recovery, name="totp-recovery"),
    path("security/totp/disable/", views.totp_disable, name="totp-disable"),
    path("password/", views.password_change, name="password"),
    path("password/reset/", views.password_reset, name="password-reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password/reset/done/", views.password_reset_done, name="password-reset-done"),
    path("language/", views.language, name="language"),
]
