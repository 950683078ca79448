"""The human side of a case: who is on call, alerting them, the ladder behind them, owners.

Flask-free, used by the workers (a case opened by a message) and by the portal (the rota,
"I'm on it"). The one entry point for code that opens or raises a case is
:func:`core.oncall.alerts.queue_case_alert`: call it in the transaction that writes the case,
and the alert is written with it and queued when that transaction commits.
"""

from core.oncall.alerts import acknowledge, escalate_due, queue_case_alert

__all__ = ["acknowledge", "escalate_due", "queue_case_alert"]
