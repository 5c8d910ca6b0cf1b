//! Command line: `frontdesk serve`, agent management, backup/restore, tokens, config check,
//! mail ingest, summary send.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad input (flags, values, unknown agent).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::agents::{self, AgentPatch, NewAgent};
use crate::audit::Actor;
use crate::auth::{self, PasswordHasher, Role, Scope};
use crate::config::{self, Config, Inputs, Layers};
use crate::db::{Db, backup};
use crate::error::{AppError, Kind};

#[derive(Parser, Debug)]
#[command(name = "frontdesk", version, about = "Live chat, tickets and email support: one binary, one SQLite file.")]
struct Cli {
    /// Config file (default: ./frontdesk.toml when present). Env: FRONTDESK_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory holding the database and backups. Env: FRONTDESK_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log format: auto (human on a terminal), human or json.
    #[arg(long, global = true, value_parser = ["auto", "human", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080. Env: FRONTDESK_LISTEN.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// URL users reach the server at. Env: FRONTDESK_PUBLIC_URL.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Write a consistent snapshot of the database to FILE (safe while serve runs).
    Backup { file: PathBuf },
    /// Replace the database with FILE after verifying it (refused while serve runs).
    Restore { file: PathBuf },
    /// Apply pending database migrations (snapshotting first) and exit.
    Migrate,
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// GDPR: export or erase everything about one customer.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Mail intake.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Daily summaries (SPEC E6).
    #[command(subcommand)]
    Summary(SummaryCommand),
    /// Fill the database with generated tickets (benchmarks and demos; refused while serve runs).
    #[command(hide = true)]
    Seed {
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also a year of chats (with outcomes) and of the seeded agents' status changes.
        #[arg(long, default_value_t = 0)]
        chats: usize,
    },
}

#[derive(Subcommand, Debug)]
enum AgentCommand {
    /// Create an agent. Without --password-stdin a random password is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "supervisor", "agent"])]
        role: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// Concurrent chats this agent may take (default 3).
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..=100))]
        chat_limit: Option<i64>,
    },
    /// List agents.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an agent: login stops working and their sessions end.
    Disable { email: String },
    /// Enable a disabled agent.
    Enable { email: String },
    /// Set an agent's password (their sessions end).
    Passwd {
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an agent's two-factor sign-in (lost phone); they sign in with the password and,
    /// where 2FA is required, enrol again.
    #[command(name = "reset-2fa")]
    Reset2fa { email: String },
}

#[derive(Subcommand, Debug)]
enum MailCommand {
    /// Import one raw email (FILE, or standard input without one) as a ticket or a reply on one;
    /// prints `#N new`, `#N threaded` or why it was ignored. Safe while serve runs (e.g. as a
    /// Postfix pipe). Exit 0 imported or ignored, 2 refused (with the reason), 1 failed.
    Ingest { file: Option<PathBuf> },
}

#[derive(Subcommand, Debug)]
enum SummaryCommand {
    /// Queue the daily summary of a day (default: today in the shop's time zone) for every agent
    /// who gets one and has none for that day yet; the running server sends it. With --dry-run,
    /// print the summaries instead and change nothing.
    Send {
        /// The day, YYYY-MM-DD in the shop's time zone.
        #[arg(long, value_name = "D")]
        date: Option<String>,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print the effective configuration (secrets masked) and where each value came from.
    Check {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ContactCommand {
    /// Write everything about the contact with this email (chats, tickets, files, visits) into one ZIP.
    Export {
        email: String,
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
    /// Erase everything about the contact with this email. Asks for confirmation unless --yes.
    Erase {
        email: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create an API token and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// admin (whole API), inbound (mail intake) or metrics (/metrics).
        #[arg(long, value_parser = ["admin", "inbound", "metrics"])]
        scope: String,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind as K;
            if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                return if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand { ExitCode::from(2) } else { ExitCode::SUCCESS };
            }
            // One line: what was wrong. `--help` has the rest.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            eprintln!("frontdesk: {first} (see frontdesk --help)");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = match e.kind {
                Kind::Invalid | Kind::InvalidJson | Kind::UnknownField | Kind::NotFound | Kind::Conflict => 2,
                _ => 1,
            };
            eprintln!("frontdesk: {}", e.message);
            ExitCode::from(code)
        }
    }
}

fn load_config(cli: &Cli, extra: Vec<(&'static str, String)>) -> Result<(Layers, Config), AppError> {
    let mut flags = cli_flags(cli);
    flags.extend(extra);
    let inputs = Inputs::from_process(cli.config.clone(), flags);
    let fail = |errs: Vec<config::ConfigError>| AppError::invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "));
    let layers = config::load(&inputs).map_err(fail)?;
    let cfg = layers.resolve().map_err(fail)?;
    Ok((layers, cfg))
}

fn run(cli: Cli) -> Result<(), AppError> {
    match &cli.command {
        Command::Serve { listen, public_url } => {
            let mut extra = Vec::new();
            if let Some(l) = listen {
                extra.push(("listen", l.clone()));
            }
            if let Some(u) = public_url {
                extra.push(("public-url", u.clone()));
            }
            let (_, cfg) = load_config(&cli, extra)?;
            crate::telemetry::init(cfg.log_format, &cfg.log_level);
            actix_web::rt::System::new().block_on(crate::run(cfg))
        }
        Command::Config(ConfigCommand::Check { json }) => {
            let inputs = Inputs::from_process(cli.config.clone(), cli_flags(&cli));
            let layers = match config::load(&inputs) {
                Ok(l) => l,
                Err(errs) => return Err(report_config_errors(&errs)),
            };
            let rows = layers.describe();
            let resolved = layers.resolve();
            if *json {
                let obj: serde_json::Map<String, serde_json::Value> =
                    rows.iter().map(|(k, v, s)| (k.clone(), serde_json::json!({"value": v, "source": s}))).collect();
                let errors: Vec<String> = resolved.as_ref().err().map(|e| e.iter().map(|x| x.to_string()).collect()).unwrap_or_default();
                println!("{}", serde_json::json!({"valid": errors.is_empty(), "keys": obj, "errors": errors}));
            } else {
                let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
                for (k, v, s) in &rows {
                    println!("{k:width$} = {v:<30} ({s})");
                }
            }
            match resolved {
                Ok(_) => {
                    if !json {
                        println!("config is valid");
                    }
                    Ok(())
                }
                Err(errs) => Err(report_config_errors(&errs)),
            }
        }
        _ => {
            let (_, cfg) = load_config(&cli, Vec::new())?;
            crate::telemetry::init(cfg.log_format, "warn");
            offline_command(&cli.command, &cfg)
        }
    }
}

fn cli_flags(cli: &Cli) -> Vec<(&'static str, String)> {
    let mut flags = Vec::new();
    if let Some(d) = &cli.data_dir {
        flags.push(("data-dir", d.to_string_lossy().into_owned()));
    }
    if let Some(f) = &cli.log_format {
        flags.push(("log-format", f.clone()));
    }
    flags
}

fn report_config_errors(errs: &[config::ConfigError]) -> AppError {
    for e in errs {
        eprintln!("invalid: {e}");
    }
    AppError::invalid(format!("{} invalid config value(s)", errs.len()))
}

fn open_db(cfg: &Config) -> Result<Db, AppError> {
    if !cfg.db_path().exists() {
        tracing::info!(path = %cfg.db_path().display(), "creating a new database");
    }
    let (db, report) = Db::open(&cfg.db_path(), &cfg.backups_dir(), cfg.backup_keep)?;
    if let Some(s) = report.snapshot {
        eprintln!("snapshot before migrating: {}", s.display());
    }
    Ok(db)
}

fn now() -> i64 {
    use crate::clock::{Clock, SystemClock};
    SystemClock.now_ms()
}

fn read_password_stdin() -> Result<String, AppError> {
    let mut s = String::new();
    std::io::stdin().take(4096).read_to_string(&mut s).map_err(|e| AppError::invalid(format!("reading stdin: {e}")))?;
    let line = s.lines().next().unwrap_or("").to_string();
    auth::validate_password(&line)?;
    Ok(line)
}

/// The raw message from FILE or stdin, refusing more than `max` bytes without reading them all.
fn read_message(file: Option<&std::path::Path>, max: usize) -> Result<Vec<u8>, AppError> {
    let mut raw = Vec::new();
    let limit = max as u64 + 1;
    match file {
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.take(limit).read_to_end(&mut raw))
            .map_err(|e| AppError::invalid(format!("cannot read {}: {e}", p.display())))?,
        None => std::io::stdin().take(limit).read_to_end(&mut raw).map_err(|e| AppError::invalid(format!("reading stdin: {e}")))?,
    };
    if raw.len() > max {
        let r = crate::inbound::Refused::TooLarge { size: raw.len(), limit: max };
        return Err(AppError::invalid(format!("refused ({}): the message is larger than {max} bytes (mail_max_bytes)", r.code())));
    }
    Ok(raw)
}

/// Either the password from stdin, or a generated one that is printed once.
fn password_from(stdin: bool) -> Result<(String, bool), AppError> {
    if stdin {
        return Ok((read_password_stdin()?, false));
    }
    Ok((auth::new_secret_token()[..20].to_string(), true))
}

fn agent_by_email(db: &Db, email: &str) -> Result<agents::Agent, AppError> {
    let norm = auth::normalize_email(email);
    db.read_blocking(|c| agents::store::find_by_email(c, &norm))?.ok_or_else(|| AppError::invalid(format!("no agent with email {norm}")))
}

fn offline_command(command: &Command, cfg: &Config) -> Result<(), AppError> {
    match command {
        Command::Serve { .. } | Command::Config(_) => unreachable!("handled by run"),
        Command::Agent(cmd) => {
            let db = open_db(cfg)?;
            let result = agent_command(&db, cmd);
            db.close()?;
            result
        }
        Command::Backup { file } => {
            backup::backup_file(&cfg.db_path(), file)?;
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            println!("backup written: {} ({size} bytes, integrity ok)", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let _lock = backup::DataDirLock::acquire(&cfg.data_dir)
                .map_err(|e| AppError::conflict(format!("refusing to restore: {}; stop it first", e.message)))?;
            let saved = backup::restore_file(file, &cfg.db_path(), &cfg.backups_dir(), cfg.backup_keep)?;
            // Bring the restored file up to this binary's schema and record the restore in it.
            let db = open_db(cfg)?;
            let source = file.display().to_string();
            let t = now();
            db.write_blocking(move |c| crate::audit::store::record(c, t, &Actor::cli(), "database.restore", Some(&source), None))?;
            db.close()?;
            if let Some(s) = saved {
                println!("previous database kept at {}", s.display());
            }
            println!("restored {}", file.display());
            Ok(())
        }
        Command::Migrate => {
            let _lock = backup::DataDirLock::acquire(&cfg.data_dir)
                .map_err(|e| AppError::conflict(format!("refusing to migrate: {}; stop it first", e.message)))?;
            let (db, report) = Db::open(&cfg.db_path(), &cfg.backups_dir(), cfg.backup_keep)?;
            db.close()?;
            if let Some(s) = report.snapshot {
                println!("snapshot: {}", s.display());
            }
            if report.applied_migrations.is_empty() {
                println!("database is up to date (schema version {})", crate::db::newest_migration());
            }
            for m in report.applied_migrations {
                println!("applied {m}");
            }
            Ok(())
        }
        Command::Seed { tickets, messages, seed, chats } => {
            let _lock = backup::DataDirLock::acquire(&cfg.data_dir)
                .map_err(|e| AppError::conflict(format!("refusing to seed: {}; stop it first", e.message)))?;
            let db = open_db(cfg)?;
            db.close()?;
            let conn = crate::db::open_connection(&cfg.db_path())?;
            let started = std::time::Instant::now();
            let r = crate::db::seed::seed(&conn, *tickets, *messages, *seed, now())?;
            println!(
                "seeded {} tickets, {} messages, {} contacts in {:.1} s",
                r.tickets,
                r.messages,
                r.contacts,
                started.elapsed().as_secs_f64()
            );
            if *chats > 0 {
                let started = std::time::Instant::now();
                let (n, changes) = crate::db::seed::seed_chats(&conn, *chats, *seed, now())?;
                println!("seeded {n} chats, {changes} status changes in {:.1} s", started.elapsed().as_secs_f64());
            }
            Ok(())
        }
        Command::Contact(cmd) => {
            let db = open_db(cfg)?;
            let result = contact_command(&db, cmd);
            db.close()?;
            result
        }
        Command::Mail(MailCommand::Ingest { file }) => {
            let raw = read_message(file.as_deref(), cfg.mail_max_bytes)?;
            let opts = crate::inbound::mime::ParseOptions { max_bytes: cfg.mail_max_bytes, unwrap_forwards: cfg.mail_unwrap_forwards };
            let mail = crate::inbound::mime::parse(&raw, &opts).map_err(|r| AppError::invalid(format!("refused ({}): {r}", r.code())))?;
            // The server's writer is in its own process: this connection waits its turn (WAL,
            // busy_timeout) and commits the message in one transaction.
            let db = open_db(cfg)?;
            let (t, config, host) = (now(), cfg.clone(), crate::inbound::own_host(cfg));
            let result = db.write_blocking(move |c| {
                let ctx = crate::inbound::Context::load(c, &config, &host, crate::inbound::Via::Cli)?;
                crate::inbound::import(c, &mail, &ctx, t)
            });
            db.close()?;
            println!("{}", result?.line());
            Ok(())
        }
        Command::Summary(SummaryCommand::Send { date, dry_run }) => {
            let db = open_db(cfg)?;
            let result = summary_send(&db, cfg, date.as_deref(), *dry_run);
            db.close()?;
            result
        }
        Command::Token(TokenCommand::Create { name, scope }) => {
            let scope = Scope::parse(scope).ok_or_else(|| AppError::invalid("unknown scope"))?;
            let db = open_db(cfg)?;
            let (name, t) = (name.clone(), now());
            let result = db.write_blocking(move |c| auth::http::create_token_tx(c, &name, scope, &Actor::cli(), t));
            db.close()?;
            let (_, _, token) = result?;
            println!("{token}");
            eprintln!("store it now: it is not shown again");
            Ok(())
        }
    }
}

/// `frontdesk summary send [--date D] [--dry-run]`.
fn summary_send(db: &Db, cfg: &Config, date: Option<&str>, dry_run: bool) -> Result<(), AppError> {
    use crate::mail::summary::{self, Queued, Schedule};
    let (t, config) = (now(), cfg.clone());
    let (schedule, shop) =
        db.read_blocking(move |c| Ok((Schedule::load(c)?, crate::mail::http::shop_name(&crate::mail::settings(c, &config)?))))?;
    let day = summary::cli_day(date, &schedule, t)?;
    if dry_run {
        let s = schedule.clone();
        let summaries = db.read_blocking(move |c| {
            crate::reports::store::daily_recipients(c)?.iter().map(|r| summary::make(c, r, day, &s, &shop)).collect::<Result<Vec<_>, _>>()
        })?;
        if summaries.is_empty() {
            println!("no agent gets daily summaries (all opted out or disabled)");
        }
        for s in summaries {
            println!("To: {} ({})", s.email, s.lang.code());
            println!("Subject: {}", s.mail.subject);
            if s.figures.is_quiet() {
                println!("(nothing happened that day: no summary would be sent)");
            }
            println!("\n{}", s.mail.text);
        }
        return Ok(());
    }
    let host = crate::inbound::own_host(cfg);
    let results = db.write_blocking(move |c| summary::queue_day(c, day, &schedule, &shop, &host, t))?;
    for (_, email, q) in &results {
        match q {
            Queued::Mail(id) => println!("{email}: queued (outbox #{id})"),
            Queued::AlreadyDone => println!("{email}: the summary of {day} was made before; not sent again"),
            Queued::Quiet => println!("{email}: nothing happened on {day}; no summary"),
        }
    }
    let queued = results.iter().filter(|r| matches!(r.2, Queued::Mail(_))).count();
    println!("{queued} summaries of {day} queued; the running server sends them within a minute");
    Ok(())
}

fn agent_command(db: &Db, cmd: &AgentCommand) -> Result<(), AppError> {
    let t = now();
    match cmd {
        AgentCommand::Add { email, name, role, password_stdin, chat_limit } => {
            let (password, generated) = password_from(*password_stdin)?;
            let new = NewAgent {
                email: email.clone(),
                name: name.clone(),
                role: Role::parse(role).ok_or_else(|| AppError::invalid("unknown role"))?,
                password,
                chat_limit: *chat_limit,
                department_ids: vec![],
                locale: None,
            };
            new.validate()?;
            let hash = PasswordHasher::hash_blocking(&new.password)?;
            let pw = new.password.clone();
            let agent = db.write_blocking(move |c| agents::create(c, &new, &hash, &Actor::cli(), t))?;
            println!("created agent #{} {} ({})", agent.id, agent.email, agent.role.as_str());
            if generated {
                println!("password: {pw}");
            }
            Ok(())
        }
        AgentCommand::List { json } => {
            let list = db.read_blocking(agents::store::list)?;
            if *json {
                println!("{}", serde_json::to_string(&list).map_err(|e| AppError::internal(e.to_string()))?);
            } else {
                println!("{:<5} {:<32} {:<24} {:<11} STATE", "ID", "EMAIL", "NAME", "ROLE");
                for a in list {
                    let state = if a.disabled { "disabled" } else { "enabled" };
                    println!("{:<5} {:<32} {:<24} {:<11} {}", a.id, a.email, a.name, a.role.as_str(), state);
                }
            }
            Ok(())
        }
        AgentCommand::Disable { email } | AgentCommand::Enable { email } => {
            let disable = matches!(cmd, AgentCommand::Disable { .. });
            let agent = agent_by_email(db, email)?;
            let patch = AgentPatch { disabled: Some(disable), ..Default::default() };
            db.write_blocking(move |c| agents::update(c, agent.id, patch, &Actor::cli(), t))?;
            println!("{} {}", if disable { "disabled" } else { "enabled" }, agent.email);
            Ok(())
        }
        AgentCommand::Passwd { email, password_stdin } => {
            let agent = agent_by_email(db, email)?;
            let (password, generated) = password_from(*password_stdin)?;
            let hash = PasswordHasher::hash_blocking(&password)?;
            db.write_blocking(move |c| agents::set_password(c, agent.id, &hash, None, &Actor::cli(), t))?;
            println!("password changed for {}; their sessions ended", agent.email);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        AgentCommand::Reset2fa { email } => {
            let agent = agent_by_email(db, email)?;
            db.write_blocking(move |c| auth::totp::reset(c, agent.id, &Actor::cli(), t))?;
            println!("two-factor sign-in removed for {}", agent.email);
            Ok(())
        }
    }
}

fn contact_command(db: &Db, cmd: &ContactCommand) -> Result<(), AppError> {
    let t = now();
    match cmd {
        ContactCommand::Export { email, out } => {
            if out.exists() {
                return Err(AppError::invalid(format!("{} already exists; refusing to overwrite", out.display())));
            }
            let email = email.clone();
            let (id, (bytes, files)) = db.read_blocking(|c| {
                let id = crate::gdpr::find(c, &email)?;
                Ok((id, crate::gdpr::export_zip(c, id, t)?))
            })?;
            let mut partial = out.as_os_str().to_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            std::fs::write(&partial, &bytes)
                .and_then(|_| std::fs::rename(&partial, out))
                .map_err(|e| AppError::internal(format!("cannot write {}: {e}", out.display())))?;
            db.write_blocking(move |c| crate::gdpr::record_export(c, id, files, &Actor::cli(), t))?;
            println!("exported contact #{id} to {} ({} bytes, {files} files)", out.display(), bytes.len());
            Ok(())
        }
        ContactCommand::Erase { email, yes } => {
            let email = email.clone();
            let (id, (chats, tickets, files)) = db.read_blocking(|c| {
                let id = crate::gdpr::find(c, &email)?;
                Ok((id, crate::gdpr::summary(c, id)?))
            })?;
            if !yes {
                eprint!(
                    "Erase everything about {email} (contact #{id}: {chats} chats, {tickets} tickets, {files} files)? \
                     This cannot be undone. Type yes to continue: "
                );
                let mut answer = String::new();
                std::io::BufRead::read_line(&mut std::io::stdin().lock().take(64), &mut answer)
                    .map_err(|e| AppError::invalid(format!("reading stdin: {e}")))?;
                if answer.trim() != "yes" {
                    return Err(AppError::invalid("not confirmed; nothing was erased"));
                }
            }
            let erased = db.write_blocking(move |c| crate::gdpr::erase(c, id, &Actor::cli(), t))?;
            db.write_blocking(crate::gdpr::purge_search_index)?;
            println!(
                "erased contact #{id}: {} chats ({} messages), {} tickets ({} thread messages), {} visitors, {} page views, {} mails, {} files",
                erased.conversations,
                erased.messages,
                erased.tickets,
                erased.ticket_messages,
                erased.visitors,
                erased.page_views,
                erased.mails,
                erased.attachments
            );
            Ok(())
        }
    }
}
