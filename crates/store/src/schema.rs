//! Diesel's view of the tables created by `/migrations`.

diesel::table! {
    settings (id) {
        id -> BigInt,
        domain -> Text,
        network -> Text,
        subdomain_pattern -> Text,
        route_target -> Text,
        poll_interval_secs -> BigInt,
        webhook_secret -> Nullable<Binary>,
        webhook_secret_env -> Nullable<Text>,
        legacy_webhook_secret -> Nullable<Text>,
        npm_url -> Nullable<Text>,
        npm_identity -> Nullable<Text>,
        npm_password -> Nullable<Binary>,
        npm_password_env -> Nullable<Text>,
        npm_certificate_id -> Nullable<BigInt>,
        npm_ssl_forced -> Bool,
        npm_allow_websocket_upgrade -> Bool,
        npm_access_list_id -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    registries (id) {
        id -> BigInt,
        name -> Text,
        url -> Text,
        username -> Nullable<Text>,
        password -> Nullable<Binary>,
        created_at -> BigInt,
        password_env -> Nullable<Text>,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        name -> Text,
        image -> Text,
        registry_id -> Nullable<BigInt>,
        port -> Nullable<Integer>,
        health_path -> Text,
        health_interval_ms -> BigInt,
        health_timeout_ms -> BigInt,
        health_retries -> Integer,
        health_start_period_ms -> BigInt,
        env -> Text,
        created_at -> BigInt,
        volumes -> Text,
        memory_bytes -> Nullable<BigInt>,
        nano_cpus -> Nullable<BigInt>,
        health_kind -> Text,
        health_status -> Text,
        restart_policy -> Text,
        stop_timeout_ms -> BigInt,
        stop_signal -> Nullable<Text>,
    }
}

diesel::table! {
    stages (id) {
        id -> BigInt,
        project_id -> BigInt,
        name -> Text,
        tag_pattern -> Nullable<Text>,
        tag_regex -> Nullable<Text>,
        tag_semver -> Nullable<Text>,
        include_prerelease -> Bool,
        auto_deploy -> Bool,
        max_instances -> Integer,
        promote_from -> Nullable<Text>,
        subdomain -> Nullable<Text>,
        watch_digest -> Bool,
        created_at -> BigInt,
        poll -> Bool,
        volumes -> Text,
        keep_images -> Integer,
        expire_after_ms -> Nullable<BigInt>,
    }
}

diesel::table! {
    deploys (id) {
        id -> BigInt,
        short_id -> Text,
        project_id -> BigInt,
        stage_id -> BigInt,
        tag -> Text,
        image -> Text,
        digest -> Nullable<Text>,
        trigger -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        container_settings -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        source_deploy_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    deploy_steps (id) {
        id -> BigInt,
        deploy_id -> BigInt,
        name -> Text,
        started_at -> BigInt,
        duration_ms -> BigInt,
        outcome -> Text,
    }
}

diesel::table! {
    deploy_logs (id) {
        id -> BigInt,
        deploy_id -> BigInt,
        seq -> BigInt,
        at -> BigInt,
        message -> Text,
    }
}

diesel::table! {
    instances (id) {
        id -> BigInt,
        project_id -> BigInt,
        stage_id -> BigInt,
        deploy_id -> BigInt,
        tag -> Text,
        digest -> Nullable<Text>,
        container_id -> Text,
        container_name -> Text,
        address -> Nullable<Text>,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        domain -> Nullable<Text>,
    }
}

diesel::table! {
    poll_state (stage_id) {
        stage_id -> BigInt,
        last_tag -> Nullable<Text>,
        last_digest -> Nullable<Text>,
        checked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        kind -> Text,
        url -> Binary,
        url_env -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    project_secret_env (id) {
        id -> BigInt,
        project_id -> BigInt,
        name -> Text,
        value -> Binary,
        value_env -> Nullable<Text>,
    }
}

diesel::table! {
    notice_outbox (id) {
        id -> BigInt,
        deploy_id -> BigInt,
        event -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(projects -> registries (registry_id));
diesel::joinable!(project_secret_env -> projects (project_id));
diesel::joinable!(stages -> projects (project_id));
diesel::joinable!(deploys -> projects (project_id));
diesel::joinable!(deploys -> stages (stage_id));
diesel::joinable!(deploy_logs -> deploys (deploy_id));
diesel::joinable!(deploy_steps -> deploys (deploy_id));
diesel::joinable!(notice_outbox -> deploys (deploy_id));
diesel::joinable!(instances -> deploys (deploy_id));
diesel::joinable!(instances -> projects (project_id));
diesel::joinable!(instances -> stages (stage_id));
diesel::joinable!(poll_state -> stages (stage_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    registries,
    projects,
    stages,
    deploys,
    deploy_logs,
    deploy_steps,
    instances,
    poll_state,
    notifications,
    notice_outbox,
    project_secret_env,
);
