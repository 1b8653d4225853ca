-- Prefect's own tables live in their own database, never beside warnflow's.
CREATE DATABASE prefect OWNER warnflow;
