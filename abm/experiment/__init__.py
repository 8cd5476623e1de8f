"""Batch experiments: sweep files, designs, seeds, backends, a resumable store and reports.

Data flows config -> model -> outputs -> here; the model never imports this package. Modules
stay light at import time (heavy libraries are imported where they are used), so `abm --help`
stays fast.
"""
