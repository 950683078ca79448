"""Background work: RQ jobs that take ids, the model-holding worker, and housekeeping."""
