//! `epayment-sim`: runs the ePayment simulator on loopback until Ctrl-C.
//!
//! Prints its base URL (the host root) on stdout. See `contract-tests/README.md`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use vipps_contract_tests::sim::{Credentials, MerchantCredentials, RateLimits, Simulator};

const HELP: &str = "\
epayment-sim: a local, stateful stand-in for the Vipps MobilePay ePayment API

USAGE: epayment-sim [OPTIONS]

OPTIONS (each also read from the environment variable in brackets):
  --port N                 port to listen on, 0 for any free one    [EPAYMENT_SIM_PORT] (default 0)
  --host ADDR              address to bind; loopback unless the next flag [EPAYMENT_SIM_HOST] (default 127.0.0.1)
  --allow-non-loopback     let --host be any address (inside a container, say); off by default, and
                           loudly reported when on: anyone who reaches it can use the simulator
                                                                    [EPAYMENT_SIM_ALLOW_NON_LOOPBACK=1]
  --rate-limits SPEC       off | documented | MODS,READS per minute [EPAYMENT_SIM_RATE_LIMITS] (default documented = 5,120)
  --no-rate-limits         same as --rate-limits off
  --client-id ID           accept only this client id               [EPAYMENT_SIM_CLIENT_ID]
  --client-secret SECRET   accept only this client secret           [EPAYMENT_SIM_CLIENT_SECRET]
  --subscription-key KEY   accept only this subscription key        [EPAYMENT_SIM_SUBSCRIPTION_KEY]
  --msn MSN                accept only this merchant serial number  [EPAYMENT_SIM_MSN]
                           (the four go together; without them any non-empty id, secret and key
                           with a valid MSN get a token)
  --production             refuse force-approve as production does  [EPAYMENT_SIM_PRODUCTION=1]
  -V, --version            the version
  -h, --help               this text
";

const VERSION: &str = concat!("epayment-sim ", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Default)]
struct Options {
    port: Option<String>,
    host: Option<String>,
    rate_limits: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    subscription_key: Option<String>,
    msn: Option<String>,
    production: bool,
    allow_non_loopback: bool,
}

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Serve(Options),
    Help,
    Version,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--allow-non-loopback" => options.allow_non_loopback = true,
            "--port" => options.port = Some(value("--port")?),
            "--host" => options.host = Some(value("--host")?),
            "--rate-limits" => options.rate_limits = Some(value("--rate-limits")?),
            "--no-rate-limits" => options.rate_limits = Some("off".to_string()),
            "--client-id" => options.client_id = Some(value("--client-id")?),
            "--client-secret" => options.client_secret = Some(value("--client-secret")?),
            "--subscription-key" => options.subscription_key = Some(value("--subscription-key")?),
            "--msn" => options.msn = Some(value("--msn")?),
            "--production" => options.production = true,
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    Ok(Command::Serve(options))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn rate_limits(spec: &str) -> Result<RateLimits, String> {
    match spec {
        "off" => Ok(RateLimits::off()),
        "documented" => Ok(RateLimits::documented()),
        other => {
            let (mods, reads) = other
                .split_once(',')
                .ok_or_else(|| format!("bad rate limits `{other}`: off, documented or MODS,READS"))?;
            let mods = mods.trim().parse().map_err(|_| format!("bad budget `{mods}`"))?;
            let reads = reads.trim().parse().map_err(|_| format!("bad budget `{reads}`"))?;
            Ok(RateLimits::per_minute(mods, reads))
        }
    }
}

fn settings(options: Options) -> Result<(SocketAddr, RateLimits, Credentials, bool), String> {
    let port: u16 = options
        .port
        .or_else(|| env("EPAYMENT_SIM_PORT"))
        .unwrap_or_else(|| "0".to_string())
        .parse()
        .map_err(|_| "--port needs a number 0..65535".to_string())?;
    let host: IpAddr = match options.host.or_else(|| env("EPAYMENT_SIM_HOST")) {
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(host) => host.parse().map_err(|_| format!("bad --host `{host}`"))?,
    };
    let allow_non_loopback = options.allow_non_loopback || env("EPAYMENT_SIM_ALLOW_NON_LOOPBACK").is_some_and(|v| v != "0");
    if !host.is_loopback() && !allow_non_loopback {
        return Err(format!(
            "--host {host} is not a loopback address; the simulator serves loopback only unless --allow-non-loopback is given"
        ));
    }
    let limits = rate_limits(
        &options
            .rate_limits
            .or_else(|| env("EPAYMENT_SIM_RATE_LIMITS"))
            .unwrap_or_else(|| "documented".to_string()),
    )?;
    let fixed = [
        options.client_id.or_else(|| env("EPAYMENT_SIM_CLIENT_ID")),
        options.client_secret.or_else(|| env("EPAYMENT_SIM_CLIENT_SECRET")),
        options.subscription_key.or_else(|| env("EPAYMENT_SIM_SUBSCRIPTION_KEY")),
        options.msn.or_else(|| env("EPAYMENT_SIM_MSN")),
    ];
    let credentials = match fixed {
        [None, None, None, None] => Credentials::Any,
        [Some(client_id), Some(client_secret), Some(subscription_key), Some(msn)] => {
            Credentials::Fixed(MerchantCredentials { client_id, client_secret, subscription_key, msn })
        }
        _ => {
            return Err(
                "--client-id, --client-secret, --subscription-key and --msn go together".to_string(),
            );
        }
    };
    let production = options.production || env("EPAYMENT_SIM_PRODUCTION").is_some_and(|v| v != "0");
    Ok((SocketAddr::new(host, port), limits, credentials, !production))
}

/// Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is made, before the base
/// URL is printed, so a signal sent as soon as the URL appears is never lost.
#[cfg(unix)]
struct StopSignal {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct StopSignal;

#[cfg(not(unix))]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{VERSION}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("epayment-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let (address, limits, credentials, force_approve) = match settings(options) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("epayment-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let stop = match StopSignal::install() {
        Ok(stop) => stop,
        Err(error) => {
            eprintln!("epayment-sim: cannot install the Ctrl-C handler: {error}");
            return ExitCode::FAILURE;
        }
    };
    let sim = match Simulator::builder()
        .address(address)
        .rate_limits(limits)
        .credentials(credentials)
        .force_approve(force_approve)
        .start()
        .await
    {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("epayment-sim: cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !address.ip().is_loopback() {
        eprintln!(
            "epayment-sim: WARNING: listening on {address}, beyond loopback (--allow-non-loopback). Anyone who can reach \
             this address can create, capture and refund simulated payments and read its test controls."
        );
    }
    println!("{}", sim.base_url());
    eprintln!(
        "epayment-sim: serving the ePayment API at {}/epayment/v1 and the token at {}/accesstoken/get; Ctrl-C stops",
        sim.base_url(),
        sim.base_url()
    );
    stop.wait().await;
    eprintln!("epayment-sim: stopping");
    sim.shutdown().await;
    ExitCode::SUCCESS
}
