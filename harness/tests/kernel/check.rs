//! The one assertion of the kernel suite, pmtu.sh style: the value found,
//! the value expected and the step, e.g. "found PMTU exception with MTU
//! 1500, expected 1400, after lowering the local MTU".
//!
//! Every [`expect`] also runs its own negative control against the same
//! measurement: the comparison is repeated with a deliberately wrong
//! expectation (a number plus one, a flipped bool, `none` for a value…) and
//! must report a mismatch; a checker that accepts the wrong value fails the
//! trial. Trials whose behaviour has a switch (a sysctl) carry a second,
//! behavioural control as their own `…::control` trial.

use libtest_mimic::Failed;
use serde::Serialize;
use serde_json::Value;

/// How a value reads in a message: `none` for an absent one, strings bare.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The comparison itself: Ok when equal, else the pmtu.sh-style message.
fn judge(what: &str, found: &Value, expected: &Value, step: &str) -> Result<(), String> {
    if found == expected {
        return Ok(());
    }
    Err(format!(
        "found {what} {}, expected {}, after {step}",
        shown(found),
        shown(expected)
    ))
}

/// A value that differs from `v` (the deliberately wrong expectation).
fn wrong(v: &Value) -> Value {
    match v {
        Value::Null => Value::from(0),
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u.wrapping_add(1)),
            (None, Some(i)) => Value::from(i.wrapping_add(1)),
            _ => Value::from(n.as_f64().unwrap_or(0.0) + 1.0),
        },
        Value::String(s) => Value::String(format!("{s} (wrong)")),
        Value::Array(_) | Value::Object(_) => Value::Null,
    }
}

fn value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Assert `found == expected` for the measurement `what` after `step`, and
/// that the same check rejects a wrong expectation (the in-trial control).
pub fn expect<T: Serialize>(what: &str, found: T, expected: T, step: &str) -> Result<(), Failed> {
    let (found, expected) = (value(found), value(expected));
    judge(what, &found, &expected, step)?;
    let wrong = wrong(&expected);
    if judge(what, &found, &wrong, step).is_ok() {
        return Err(format!(
            "control: the check of {what} after {step} accepted the wrong expectation {} \
             (found {})",
            shown(&wrong),
            shown(&found)
        )
        .into());
    }
    Ok(())
}

/// A condition with its words: `found` describes the measurement when it
/// does not hold (e.g. "transfer took 3.2 s, expected at most 2 s").
pub fn holds(ok: bool, found: impl FnOnce() -> String, step: &str) -> Result<(), Failed> {
    if ok {
        return Ok(());
    }
    Err(format!("{}, after {step}", found()).into())
}

/// An MTU as pmtu.sh prints it: `1400`, `lock 552`, or none.
pub fn pmtu(mtu: Option<u32>, locked: bool) -> Option<String> {
    mtu.map(|m| {
        if locked {
            format!("lock {m}")
        } else {
            m.to_string()
        }
    })
}

/// The checker's own trials (no lab): its message reads as pmtu.sh's, and
/// a wrong expectation of every kind is told apart from the found value.
pub fn self_test() -> Result<(), Failed> {
    let e = judge(
        "PMTU exception with MTU",
        &value(1500),
        &value(1400),
        "lowering the local MTU",
    )
    .unwrap_err();
    let want = "found PMTU exception with MTU 1500, expected 1400, after lowering the local MTU";
    if e != want {
        return Err(format!("message {e:?}, expected {want:?}").into());
    }
    for v in [
        Value::Null,
        value(true),
        value(3u32),
        value(-2),
        value(1.5),
        value("lock 552"),
        value([1]),
    ] {
        if wrong(&v) == v || judge("x", &v, &wrong(&v), "s").is_ok() {
            return Err(format!("no wrong expectation found for {v}").into());
        }
    }
    Ok(())
}
