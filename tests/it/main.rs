//! Integration tests: one binary that drives the real `rats` binary (and, where a check needs
//! the library's view of the lake, reads the Delta tables through it).

mod accounts;
mod alert_mail;
mod check;
mod cli;
mod consume_fixtures;
mod crash_resume;
mod dashboard;
mod datasets;
mod export;
mod image;
mod interop;
mod kafka_consume;
mod lake_docs;
mod live;
mod mail_server;
mod matching;
mod mlflow;
mod occupation;
mod oidc;
mod openapi;
mod produce;
mod readme_api;
mod registry_stub;
mod replicas;
mod report;
mod run;
mod salary_cases;
mod salary_model;
mod serve;
mod skills;
mod support;
mod traces;
mod transform;
