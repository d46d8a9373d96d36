"""The hostile cases: what an attacker, a broken billing system or a faulty mail server can
throw at wo-tui, each kept here with the test that proves it is handled (poison and oversized
events, formula cells, canary passwords, invalid UTF-8, missing database paths, SMTP fault
servers). They run on SQLite and PostgreSQL like the rest of the suite; a case that cannot
exist on one of them says so where it is skipped."""
