"""The service's database: the engine, the mapped tables' base, and the migrations.

Job records (:mod:`service.jobs.store`) and reference profiles with their drift reports
(:mod:`service.samples.profile_store`) share one database and one chain of migrations.
"""
