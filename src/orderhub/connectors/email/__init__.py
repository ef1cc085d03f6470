"""Alerts by email over SMTP (stdlib `smtplib`): one message per digest."""

from __future__ import annotations

from orderhub.connectors.email.client import EmailNotifier, SmtpSettings, build_message, send_mail

__all__ = ["EmailNotifier", "SmtpSettings", "build_message", "send_mail"]
