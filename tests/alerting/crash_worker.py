"""A delivery worker as its own process, for the crash test (not a test module).

``python crash_worker.py setup N``: N customers, each alarmed on one channel
(even: e-mail, odd: webhook), each with a check that has just gone down.
``python crash_worker.py work ID``: run ``deliver_due`` in a loop until killed.

The database, SMTP port and webhook port come from the environment
(``LEITSTAND_DATABASE_URL``, ``LEITSTAND_EMAIL_PORT``, ``ALERTING_HOOK_PORT``).
Backoff and lease are shortened so that the test takes seconds, not hours.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta


def setup(count: int) -> None:
    from django.utils import timezone

    from leitstand.alerting import actions
    from leitstand.alerting.models import Channel
    from leitstand.contracts.models import Asset, Contact, Contract, Customer, Plan
    from leitstand.monitoring.models import Check, CheckEvent, CheckStatus

    hook = f"http://127.0.0.1:{os.environ['ALERTING_HOOK_PORT']}/hook"
    plan = Plan.objects.create(name="crash-plan", title="Crash plan", alarming_included=True)
    for i in range(count):
        customer = Customer.objects.create(number=f"C{i:05d}", name=f"Customer {i}")
        contact = Contact.objects.create(customer=customer, name=f"C{i}", receives_alarms=True)
        asset = Asset.objects.create(customer=customer, name=f"server-{i}")
        Contract.objects.create(asset=asset, plan=plan, starts_on=date(2020, 1, 1))
        if i % 2:
            config = {"url": hook, "secret": "s3cret-s3cret-s3cret", "allow": ["127.0.0.1/32"]}
            Channel.objects.create(kind="webhook", config=config, contact=contact)
        else:
            Channel.objects.create(kind="email", config={"to": f"c{i}@x.example"}, contact=contact)
        check = Check.objects.create(asset=asset, name="HTTP", kind="http")
        CheckStatus.objects.create(service_check=check, state="critical", hard_state="critical")
        CheckEvent.objects.create(
            service_check=check,
            at=timezone.now(),
            kind="state",
            old_state="ok",
            new_state="critical",
            priority="P1",
        )
    while actions.process_new_events():
        pass


def work(worker_id: str) -> None:
    from leitstand.alerting import actions, retry

    retry.BASE = timedelta(milliseconds=200)
    retry.CAP = timedelta(seconds=1)
    actions.LEASE = timedelta(seconds=3)
    while True:
        if not actions.deliver_due(worker_id):
            time.sleep(0.05)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leitstand.settings")
    django.setup()
    command, *args = sys.argv[1:]
    if command == "setup":
        setup(int(args[0]))
    else:
        work(args[0])
