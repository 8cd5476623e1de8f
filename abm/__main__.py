from abm.cli import command

raise SystemExit(command())
