//! `mfaenv setup PROFILE [--serial ARN]`: find the MFA device of the
//! profile's IAM user and record it as `mfa_serial` in the config file.
//!
//! The profile's long-term keys (its source's, for a role profile) name their
//! user through `sts:GetCallerIdentity`; `iam:ListMFADevices` lists that
//! user's devices. One device is taken as is; among several the user picks
//! on the terminal (or with `--serial`). The config file is edited in place:
//! `mfa_serial` is set in `[profile NAME]` (or `[default]`), every other byte
//! stays, and the write is atomic.

use std::io::{BufRead, BufReader, Write};

use anyhow::{bail, Context, Result};

use crate::aws::endpoint::{self, Service};
use crate::aws::{Identity, MfaDevice, Sts, StsError};
use crate::cli::SetupArgs;
use crate::config::{self, edit, Plan, Profiles};
use crate::env_vars::get as env_value;
use crate::mfa::{open_tty, Tty};
use crate::resolve;
use crate::ui;

/// How many times a person may answer the "which device" question wrongly.
const ATTEMPTS: u32 = 3;

pub fn run(args: &SetupArgs) -> Result<String> {
    let name = args.name();
    if let Some(serial) = &args.serial {
        check_serial(serial)?;
    }
    let profiles = Profiles::load()?;
    let plan = config::resolve(&profiles, &name, &env_value)?;
    if !plan.source.kind.has_keys() {
        bail!(
            "profile `{name}` gets its credentials from {}, which signs in with its own MFA: there is no mfa_serial to set up",
            plan.source.origin
        );
    }
    let serial = find_serial(&plan, args.serial.as_deref())?;
    record(&profiles, &name, &serial)?;
    Ok(String::new())
}

/// The serial to record: asks AWS which devices the keys' user has.
fn find_serial(plan: &Plan, wanted: Option<&str>) -> Result<String> {
    let region = endpoint::region(plan, None);
    let (sts_endpoint, origin) = endpoint::endpoint(Service::Sts, plan, None).unzip();
    let sts = Sts::new(region.as_deref(), sts_endpoint.as_deref())?.endpoint_origin(origin);
    let keys = &resolve::source_keys(plan)?;
    let identity = sts.get_caller_identity(keys).with_context(|| {
        format!(
            "profile `{}`: asking AWS whose keys profile `{}` holds",
            plan.profile, plan.source.profile
        )
    })?;
    let owner = Owner::of(&identity);
    let Some(owner) = owner else {
        return match wanted {
            Some(serial) => {
                ui::warning(format_args!(
                    "the keys of profile `{}` belong to {}, not to an IAM user, so mfaenv cannot list its MFA devices; recording {serial} as given",
                    plan.source.profile, identity.arn
                ));
                Ok(serial.to_string())
            }
            None => bail!(
                "the keys of profile `{}` belong to {}, not to an IAM user: MFA devices belong to IAM users. \
                 Give the device with --serial ARN (IAM console: Users → your user → Security credentials)",
                plan.source.profile,
                identity.arn
            ),
        };
    };
    let iam_endpoint = endpoint::endpoint(Service::Iam, plan, None).map(|(url, _)| url);
    let listed = sts.list_mfa_devices(keys, iam_endpoint.as_deref(), owner.user_name());
    let devices = match (listed, wanted) {
        (Ok(devices), _) => devices,
        // Not allowed to list (a strict policy): take the user's word for it.
        (Err(err @ StsError::AccessDenied { .. }), Some(serial)) => {
            ui::warning(format_args!(
                "cannot list the MFA devices of {} ({err}); recording {serial} as given",
                owner.label()
            ));
            return Ok(serial.to_string());
        }
        (Err(err @ StsError::AccessDenied { .. }), None) => {
            return Err(err).with_context(|| {
                format!(
                    "listing the MFA devices of {}; give the device with --serial ARN (IAM console: Users → {} → Security credentials)",
                    owner.label(),
                    owner.user_name().unwrap_or("your user")
                )
            })
        }
        (Err(err), _) => {
            return Err(err)
                .with_context(|| format!("listing the MFA devices of {}", owner.label()))
        }
    };
    check_listed(&devices, &owner)?;
    choose(&owner, &devices, wanted, &plan.profile)
}

/// Whose devices: an IAM user, or the account's root user.
enum Owner {
    User { name: String, arn: String },
    Root { account: String },
}

impl Owner {
    /// `arn:aws:iam::123456789012:user/path/alice` → alice; `…:root` → root;
    /// anything else (an assumed role, a federated user) → none.
    fn of(identity: &Identity) -> Option<Owner> {
        let resource = identity.arn.splitn(6, ':').nth(5)?;
        if resource == "root" {
            return Some(Owner::Root {
                account: identity.account.clone(),
            });
        }
        let path = resource.strip_prefix("user/")?;
        let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
        Some(Owner::User {
            name: name.to_string(),
            arn: identity.arn.clone(),
        })
    }

    /// The `UserName` to ask about (none for root: IAM takes the caller's).
    fn user_name(&self) -> Option<&str> {
        match self {
            Owner::User { name, .. } => Some(name),
            Owner::Root { .. } => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Owner::User { name, arn } => format!("IAM user {name} ({arn})"),
            Owner::Root { account } => format!("the root user of account {account}"),
        }
    }
}

fn choose(
    owner: &Owner,
    devices: &[MfaDevice],
    wanted: Option<&str>,
    profile: &str,
) -> Result<String> {
    let listing = || {
        devices
            .iter()
            .map(|d| format!("\n  {}", d.serial))
            .collect::<String>()
    };
    if devices.is_empty() {
        let user = owner.user_name().unwrap_or("USER");
        bail!(
            "{} has no MFA device. Assign one in the IAM console (Users → {user} → Security credentials → Assign MFA device), \
             or with the AWS CLI:\n  aws iam create-virtual-mfa-device --virtual-mfa-device-name {user} --outfile qr.png --bootstrap-method QRCodePNG\n  \
             aws iam enable-mfa-device --user-name {user} --serial-number ARN --authentication-code1 CODE1 --authentication-code2 CODE2\n\
             then run `mfaenv setup {profile}` again",
            owner.label()
        );
    }
    if let Some(serial) = wanted {
        if devices.iter().any(|d| d.serial == serial) {
            return Ok(serial.to_string());
        }
        bail!(
            "{serial} is not an MFA device of {}; it has:{}",
            owner.label(),
            listing()
        );
    }
    if let [only] = devices {
        return Ok(only.serial.clone());
    }
    let Some(tty) = open_tty() else {
        bail!(
            "{} has {} MFA devices and there is no terminal to ask which one: pass --serial ARN, one of:{}",
            owner.label(),
            devices.len(),
            listing()
        );
    };
    ask(&tty, owner, devices, profile)
}

/// Asks on the terminal which device to record.
fn ask(tty: &Tty, owner: &Owner, devices: &[MfaDevice], profile: &str) -> Result<String> {
    let io = |e: std::io::Error| anyhow::anyhow!("cannot use the terminal: {e}");
    let mut out = &tty.output;
    writeln!(out, "{} has {} MFA devices:", owner.label(), devices.len()).map_err(io)?;
    for (i, d) in devices.iter().enumerate() {
        match &d.enabled {
            Some(date) => writeln!(out, "  {}) {}  (enabled {date})", i + 1, d.serial),
            None => writeln!(out, "  {}) {}", i + 1, d.serial),
        }
        .map_err(io)?;
    }
    let mut reader = BufReader::new(&tty.input);
    for _ in 0..ATTEMPTS {
        write!(
            out,
            "Record which one as mfa_serial of `{profile}`? [1-{}]: ",
            devices.len()
        )
        .map_err(io)?;
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(io)? == 0 || line.trim().is_empty() {
            bail!("no device chosen; nothing was written");
        }
        let answer = line.trim();
        let picked = match answer.parse::<usize>() {
            Ok(n) if (1..=devices.len()).contains(&n) => Some(&devices[n - 1]),
            _ => devices.iter().find(|d| d.serial == answer),
        };
        match picked {
            Some(d) => return Ok(d.serial.clone()),
            None => {
                writeln!(out, "mfaenv: answer a number from 1 to {}", devices.len()).map_err(io)?
            }
        }
    }
    bail!("no valid answer after {ATTEMPTS} tries; nothing was written")
}

/// A serial goes into an INI line, from the command line or from IAM's
/// answer (hostile until checked): it must have the shape of an MFA device,
/// `arn:PARTITION:iam::ACCOUNT:mfa/NAME` (or `u2f/…`), or a hardware token's
/// serial number (`GAHT12345678`: 9 to 256 capital letters and digits).
fn check_serial(serial: &str) -> Result<()> {
    if is_mfa_arn(serial) || is_hardware_serial(serial) {
        return Ok(());
    }
    bail!(
        "`{}` cannot be an MFA serial: expected an ARN like arn:aws:iam::123456789012:mfa/NAME",
        serial.escape_debug()
    );
}

fn is_mfa_arn(serial: &str) -> bool {
    let parts: Vec<&str> = serial.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    let name = resource
        .strip_prefix("mfa/")
        .or_else(|| resource.strip_prefix("u2f/"));
    arn == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name.is_some_and(|n| !n.is_empty() && n.len() <= 512 && n.chars().all(name_char))
}

fn is_hardware_serial(serial: &str) -> bool {
    (9..=256).contains(&serial.len())
        && serial
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Refuses IAM's whole answer when one serial in it is not a serial.
fn check_listed(devices: &[MfaDevice], owner: &Owner) -> Result<()> {
    for device in devices {
        check_serial(&device.serial).with_context(|| {
            format!(
                "IAM listed a device of {} whose serial is not an MFA serial; nothing was written",
                owner.label()
            )
        })?;
    }
    Ok(())
}

/// Sets `mfa_serial` in the profile's section of the config file and says
/// what changed; checks afterwards that mfaenv now uses it.
fn record(profiles: &Profiles, name: &str, serial: &str) -> Result<()> {
    let path = Profiles::config_path();
    let text = match std::fs::read(&path) {
        Ok(bytes) => {
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let section = edit::profile_header(name);
    let updated = edit::set_profile_keys(&text, name, &[("mfa_serial", serial)])?;
    if updated == text {
        eprintln!(
            "mfaenv: [{section}] in {} already has mfa_serial = {serial}",
            path.display()
        );
    } else {
        edit::write_private(&path, &updated)?;
        eprintln!(
            "mfaenv: recorded mfa_serial = {serial} in [{section}] of {}",
            path.display()
        );
    }
    // What a value elsewhere would do: the credentials file wins over the
    // config file, and a role nearer the keys is asked first.
    if let Some(v) = profiles.get(name).and_then(|p| p.value("mfa_serial")) {
        if v.location.path != path && v.value != serial {
            ui::warning(format_args!(
                "{} sets mfa_serial = {} for `{name}`, which wins over the config file: remove that line",
                v.location, v.value
            ));
        }
    }
    let plan = config::resolve(&Profiles::load()?, name, &env_value)?;
    match plan.mfa_serial.as_deref() {
        Some(used) if used == serial => {
            ui::hint(format_args!("next: `mfaenv login {name}` asks for one code and caches the session"));
        }
        Some(used) => ui::warning(format_args!(
            "profile `{name}` still uses mfa_serial = {used}, set by a profile its source_profile chain goes through first"
        )),
        None => ui::warning(format_args!("profile `{name}` still resolves without mfa_serial")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(arn: &str) -> Option<String> {
        Owner::of(&Identity {
            arn: arn.to_string(),
            account: "123456789012".to_string(),
            user_id: String::new(),
        })
        .map(|o| o.user_name().unwrap_or("(root)").to_string())
    }

    #[test]
    fn user_names_from_arns() {
        assert_eq!(
            owner("arn:aws:iam::123456789012:user/alice").as_deref(),
            Some("alice")
        );
        assert_eq!(
            owner("arn:aws:iam::123456789012:user/ops/eu/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(
            owner("arn:aws-cn:iam::123456789012:root").as_deref(),
            Some("(root)")
        );
        assert_eq!(owner("arn:aws:sts::123456789012:assumed-role/r/s"), None);
        assert_eq!(owner("arn:aws:sts::123456789012:federated-user/x"), None);
        assert_eq!(owner("nonsense"), None);
    }

    #[test]
    fn serials_have_the_shape_of_a_device() {
        for good in [
            "arn:aws:iam::123456789012:mfa/alice",
            "arn:aws-us-gov:iam::123456789012:mfa/ops/alice+phone@x.y",
            "arn:aws:iam::123456789012:u2f/user/alice/key-ABC",
            "GAHT12345678",
        ] {
            assert!(check_serial(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a\nmfa_serial=x",
            "arn:aws:iam::123456789012:mfa/alice\n[profile prod]\nendpoint_url = http://evil",
            "arn:aws:iam::123456789012:mfa/alice\r",
            "arn:aws:iam::123456789012:mfa/al ice",
            "arn:aws:iam::123456789012:mfa/",
            "arn:aws:iam::12345678901:mfa/alice",
            "arn:aws:sts::123456789012:mfa/alice",
            "arn:aws:iam:us-east-1:123456789012:mfa/alice",
            "arn:aws:iam::123456789012:user/alice",
            "GAHT1234",
            "gaht12345678",
        ] {
            assert!(check_serial(bad).is_err(), "{bad:?}");
        }
    }
}
