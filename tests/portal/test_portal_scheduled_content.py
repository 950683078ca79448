"""What a reviewer approves in the portal is what the scheduler sends next."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from content.db import load_library_into
from core.tables import utcnow
from tests.conftest import drain
from tests.portal.conftest import version_id
from tests.scheduling.conftest import enrol, set_due, zone_at_local_hour
from workers import runtime
from workers.scheduling import tick

STEP = "course.doing_what_matters.day2"
REWORDED = ("Day 2: A worrying thought is only a thought. Say to yourself: \"I notice I am worrying.\" "
            "Then go back to your work, your family or your fields.")


def test_a_course_step_approved_in_the_portal_is_the_next_scheduled_send(portal_app, starter_content, sign_in,
                                                                         twilio_standin):
    services = portal_app.extensions["tumaini.services"]
    library = starter_content.library
    with services.db.session() as session:
        load_library_into(session, replace(library, messages=tuple(
            m for m in library.messages if m.id.startswith(("course.doing_what_matters.", "onboarding.")))))
    runtime.install(services)

    phone = "+254700000311"
    contact = enrol(services, phone, time_zone=zone_at_local_hour(12))  # midday for them, whenever this runs
    assert tick(services).created == 1  # day 1, from the library as loaded
    drain(services)

    ana, _ = sign_in("curator", name="Ana")
    rev, _ = sign_in("reviewer", name="Rev")
    saved = ana.post(f"/portal/content/{STEP}/en/edit", {"sms": REWORDED})
    assert saved.status_code == 302
    draft = version_id(portal_app, STEP, "en", 2)
    ana.post(f"/portal/content/version/{draft}/submit")

    # Not yet approved: the next send would still be the approved wording.
    assert services.content().render(STEP, "en", "sms").text.startswith("Day 2: Difficult thoughts")
    rev.post(f"/portal/content/version/{draft}/approve", {"comment": "Closer to how people here talk."})

    set_due(services, contact, utcnow() - timedelta(minutes=1))
    assert tick(services).created == 1
    drain(services)
    bodies = twilio_standin.bodies_to(phone)
    assert bodies[-1] == REWORDED, bodies
    assert len(bodies) == 2
