DROP TABLE poll_state;
DROP TABLE instances;
DROP TABLE deploy_logs;
DROP TABLE deploys;
DROP TABLE stages;
DROP TABLE projects;
DROP TABLE registries;
DROP TABLE settings;
