-- PostgreSQL drops the foreign keys of device_leaves and device_nodes here (see the .postgres.sql file:
-- a trigger per inserted row there). SQLite checks a foreign key in-process by a primary-key probe, at
-- no cost worth a table rebuild (the only way SQLite drops a constraint): its schema keeps them.
SELECT 1;
