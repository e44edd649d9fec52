"""Residents' feedback (phản ánh, kiến nghị): reported from a phone, routed, answered on time.

* ``status`` – statuses and the one pure transition function;
* ``categories`` – the default kinds of report; ``policy`` – a commune's rules, deadlines
  in working days (``bot.workdays``) and when notifications may go out;
* ``intent`` / ``places`` – reading free text: is it a report, which village, coordinates;
* ``photos`` – photos checked like evidence and stripped of their location;
* ``store`` – every change, in the caller's transaction; ``queues`` – reading reports;
* ``notify`` – who hears what, as outbox rows; ``privacy`` – erasure and retention;
* ``open311`` – the GeoReport v2 shapes; ``sample`` – sample reports.

The chat flow is ``bot.handlers.feedback``.
"""
