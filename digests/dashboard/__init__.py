"""The editors' home: the admin index for staff as a dashboard.

`selectors` reads the counters and daily rows the services and jobs write (never the
deliveries themselves), `charts` lays them out as SVG, `jobs` records each beat job's
runs from Celery's signals, `preview` explains a reader's next digest, and `views` glues
them to the admin.
"""
