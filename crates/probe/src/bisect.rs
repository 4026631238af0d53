//! Finding the smallest change that flips a server from silent (or NAK) to
//! answering: over a field's range, or between a working and a failing request.
//!
//! The search asks an [`Oracle`] (the network, in `dhcplens bisect`; a model
//! server in tests) one request at a time.

use std::fmt;

use diagnose::diff::{self, Difference};
use wire::Message;

/// What the server did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An OFFER (to a DISCOVER) or an ACK (to a REQUEST).
    Answered,
    Nak,
    Silent,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Answer::Answered => "answered",
            Answer::Nak => "NAK",
            Answer::Silent => "silent",
        })
    }
}

/// Sends one request and says what the server did.
pub trait Oracle {
    fn ask(&mut self, m: &Message<'static>) -> Result<Answer, String>;
}

impl<F: FnMut(&Message<'static>) -> Result<Answer, String>> Oracle for F {
    fn ask(&mut self, m: &Message<'static>) -> Result<Answer, String> {
        self(m)
    }
}

/// A numeric fixed field to vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Secs,
    Hops,
    Flags,
    Htype,
    Hlen,
}

impl Field {
    pub fn parse(s: &str) -> Result<Field, String> {
        Ok(match s {
            "secs" => Field::Secs,
            "hops" => Field::Hops,
            "flags" => Field::Flags,
            "htype" => Field::Htype,
            "hlen" => Field::Hlen,
            _ => {
                return Err(format!(
                    "{s:?} cannot be bisected (secs, hops, flags, htype, hlen)"
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Secs => "secs",
            Field::Hops => "hops",
            Field::Flags => "flags",
            Field::Htype => "htype",
            Field::Hlen => "hlen",
        }
    }

    pub fn max(self) -> u32 {
        match self {
            Field::Secs | Field::Flags => u32::from(u16::MAX),
            _ => u32::from(u8::MAX),
        }
    }

    pub fn set(self, m: &mut Message<'_>, v: u32) {
        match self {
            Field::Secs => m.secs = v as u16,
            Field::Hops => m.hops = v as u8,
            Field::Flags => m.flags = v as u16,
            Field::Htype => m.htype = v as u8,
            Field::Hlen => m.hlen = v as u8,
        }
    }
}

/// One request tried.
#[derive(Debug, Clone)]
pub struct Try {
    pub what: String,
    pub answer: Answer,
}

/// Where the server's answer changes over a field's range.
#[derive(Debug, Clone)]
pub struct RangeResult {
    pub field: Field,
    pub low: (u32, Answer),
    pub high: (u32, Answer),
    /// The two neighbouring values between which the answer changes, once
    /// both were asked again and answered the same.
    pub boundary: Option<((u32, Answer), (u32, Answer))>,
    /// The boundary's values whose second asking got another answer than
    /// the first: (value, first answer, second answer). No threshold is
    /// stated then (`boundary` is `None`).
    pub inconsistent: Vec<(u32, Answer, Answer)>,
    pub tries: Vec<Try>,
}

impl RangeResult {
    /// The conclusion as a sentence, with what it is consistent with.
    pub fn conclusion(&self) -> String {
        let f = self.field.name();
        if !self.inconsistent.is_empty() {
            let what: Vec<String> = self
                .inconsistent
                .iter()
                .map(|(v, first, then)| format!("{f}={v} got {first}, then {then}"))
                .collect();
            return format!(
                "the server answered inconsistently ({}): no threshold can be stated; replies may be lost, \
                 or its answer depends on more than {f} (load, failover, rate limits): try again with a longer --timeout or --pause",
                what.join("; ")
            );
        }
        match self.boundary {
            None => format!(
                "no change between {f}={} ({}) and {f}={} ({}): {f} does not change the server's answer in this range",
                self.low.0, self.low.1, self.high.0, self.high.1
            ),
            Some(((a, aa), (b, ba))) => {
                let (below, above) = (aa, ba);
                let mut s = format!("server {above} when {f} ≥ {b}, {below} when {f} ≤ {a}");
                if self.field == Field::Secs && below == Answer::Silent && above == Answer::Answered {
                    s.push_str(&format!(
                        ": consistent with ISC dhcpd `min-secs {b}` (or failover load balancing / Kea HA waiting for secs)"
                    ));
                } else if self.field == Field::Hops && above == Answer::Silent {
                    s.push_str(": consistent with a relay hop limit");
                }
                s
            }
        }
    }
}

fn answered(a: Answer) -> bool {
    a == Answer::Answered
}

/// Bisects `field` over `lo..=hi` on `base`, assuming one change of answer
/// (answered, NAK or silent). A value that gets no answer is asked once
/// more (one lost reply must not move the boundary), and the boundary's two
/// values are asked again before it is stated: if either answers otherwise,
/// the result says the server answered inconsistently.
pub fn range(
    base: &Message<'static>,
    field: Field,
    lo: u32,
    hi: u32,
    oracle: &mut dyn Oracle,
) -> Result<RangeResult, String> {
    if lo > hi || hi > field.max() {
        return Err(format!(
            "range {lo}..{hi} is empty or beyond {}'s maximum {}",
            field.name(),
            field.max()
        ));
    }
    let mut tries = Vec::new();
    let mut probe = |v: u32, why: &str, tries: &mut Vec<Try>| -> Result<Answer, String> {
        let mut m = base.clone();
        field.set(&mut m, v);
        let mut a = oracle.ask(&m)?;
        tries.push(Try {
            what: format!("{}={v}{why}", field.name()),
            answer: a,
        });
        if a == Answer::Silent {
            a = oracle.ask(&m)?;
            tries.push(Try {
                what: format!("{}={v}{why} again, as it was silent", field.name()),
                answer: a,
            });
        }
        Ok(a)
    };
    let a_lo = probe(lo, "", &mut tries)?;
    let a_hi = if hi == lo {
        a_lo
    } else {
        probe(hi, "", &mut tries)?
    };
    let mut result = RangeResult {
        field,
        low: (lo, a_lo),
        high: (hi, a_hi),
        boundary: None,
        inconsistent: Vec::new(),
        tries: Vec::new(),
    };
    if a_lo == a_hi {
        result.tries = tries;
        return Ok(result);
    }
    let (mut l, mut la, mut h, mut ha) = (lo, a_lo, hi, a_hi);
    while h - l > 1 {
        let mid = l + (h - l) / 2;
        let a = probe(mid, "", &mut tries)?;
        if a == la {
            (l, la) = (mid, a);
        } else {
            (h, ha) = (mid, a);
        }
    }
    for (v, first) in [(l, la), (h, ha)] {
        let again = probe(v, " (confirming)", &mut tries)?;
        if again != first {
            result.inconsistent.push((v, first, again));
        }
    }
    if result.inconsistent.is_empty() {
        result.boundary = Some(((l, la), (h, ha)));
    }
    result.tries = tries;
    Ok(result)
}

/// What made the failing request work.
#[derive(Debug, Clone)]
pub struct DiffResult {
    pub differences: Vec<Difference>,
    pub working: Answer,
    pub failing: Answer,
    /// The smallest sets of differences that, copied from the working request
    /// into the failing one, make the server answer (singles first).
    pub flips: Vec<Vec<Difference>>,
    pub tries: Vec<Try>,
}

impl DiffResult {
    pub fn conclusion(&self) -> String {
        if !answered(self.working) || answered(self.failing) {
            return format!(
                "could not reproduce: the working request got {} and the failing one {}",
                self.working, self.failing
            );
        }
        if self.differences.is_empty() {
            return "the two requests do not differ (apart from xid), yet the server treats them differently: it depends on state or timing".into();
        }
        match self.flips.first() {
            None => {
                let n = self.differences.len();
                if n <= PAIRED {
                    format!(
                        "no single difference or pair of differences makes the failing request work \
                         ({n} differences: each alone and every pair tried once; sets of three or more were \
                         not; a reply lost on the way would hide a flip: run it again to be sure)"
                    )
                } else {
                    format!(
                        "no single difference makes the failing request work ({n} tried alone), nor any pair \
                         of the {PAIRED} ranked most likely ({} pairs tried); pairs with the {} ranked lower \
                         and sets of three or more were not tried; each was tried once (a reply lost on the \
                         way would hide a flip: run it again to be sure)",
                        PAIRED * (PAIRED - 1) / 2,
                        n - PAIRED
                    )
                }
            }
            Some(set) => {
                let what: Vec<String> = set
                    .iter()
                    .map(|d| format!("{} {} → {}", d.field, d.right, d.left))
                    .collect();
                let mut s = format!(
                    "the server answers once {} (as in the working request)",
                    what.join(" and ")
                );
                if set.len() == 1 {
                    s.push_str(&format!("; servers care because {}", set[0].why));
                }
                s
            }
        }
    }
}

/// How many of the differences, the most likely first, are tried in pairs.
pub const PAIRED: usize = 8;

/// Tries each difference between `working` and `failing` alone (then pairs
/// of the [`PAIRED`] most likely, if no single one works).
pub fn between(
    working: &Message<'static>,
    failing: &Message<'static>,
    oracle: &mut dyn Oracle,
) -> Result<DiffResult, String> {
    let differences = diff::requests(working, failing);
    let mut tries = Vec::new();
    let mut w = oracle.ask(working)?;
    tries.push(Try {
        what: "the working request as is".into(),
        answer: w,
    });
    if w == Answer::Silent {
        // One lost reply must not make the run "could not reproduce".
        w = oracle.ask(working)?;
        tries.push(Try {
            what: "the working request as is, again, as it was silent".into(),
            answer: w,
        });
    }
    let f = oracle.ask(failing)?;
    tries.push(Try {
        what: "the failing request as is".into(),
        answer: f,
    });
    let mut result = DiffResult {
        differences: differences.clone(),
        working: w,
        failing: f,
        flips: Vec::new(),
        tries,
    };
    if !answered(w) || answered(f) {
        return Ok(result);
    }
    let mut try_set = |set: &[&Difference], tries: &mut Vec<Try>| -> Result<bool, String> {
        let mut m = failing.clone();
        for d in set {
            d.apply(&mut m, working);
        }
        let a = oracle.ask(&m)?;
        let what: Vec<&str> = set.iter().map(|d| d.field.as_str()).collect();
        tries.push(Try {
            what: format!(
                "failing request with {} from the working one",
                what.join(" + ")
            ),
            answer: a,
        });
        Ok(answered(a))
    };
    for d in &differences {
        if try_set(&[d], &mut result.tries)? {
            result.flips.push(vec![d.clone()]);
        }
    }
    if result.flips.is_empty() {
        let top: Vec<&Difference> = differences.iter().take(PAIRED).collect();
        'pairs: for i in 0..top.len() {
            for j in i + 1..top.len() {
                if try_set(&[top[i], top[j]], &mut result.tries)? {
                    result.flips.push(vec![top[i].clone(), top[j].clone()]);
                    break 'pairs;
                }
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::dhcp::{code, MessageType, Op};

    fn discover(secs: u16) -> Message<'static> {
        let mut m = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        m.secs = secs;
        m.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        m
    }

    /// A model of ISC dhcpd with `min-secs`.
    fn min_secs(threshold: u16) -> impl FnMut(&Message<'static>) -> Result<Answer, String> {
        move |m| {
            Ok(if m.secs >= threshold {
                Answer::Answered
            } else {
                Answer::Silent
            })
        }
    }

    #[test]
    fn finds_min_secs_thresholds() {
        for t in [1u16, 2, 5, 17, 30] {
            let mut oracle = min_secs(t);
            let r = range(&discover(0), Field::Secs, 0, 30, &mut oracle).unwrap();
            let ((a, _), (b, _)) = r.boundary.unwrap();
            assert_eq!((a, b), (u32::from(t) - 1, u32::from(t)));
            let mut values: Vec<&str> = r
                .tries
                .iter()
                .filter(|t| !t.what.contains("confirming"))
                .map(|t| t.what.split(' ').next().unwrap())
                .collect();
            values.sort_unstable();
            values.dedup();
            assert!(values.len() <= 2 + 5, "binary search: {values:?}");
            assert!(
                r.conclusion().contains(&format!("`min-secs {t}`")),
                "{}",
                r.conclusion()
            );
        }
    }

    #[test]
    fn no_flip_in_range() {
        let mut oracle = min_secs(100);
        let r = range(&discover(0), Field::Secs, 0, 30, &mut oracle).unwrap();
        assert!(r.boundary.is_none());
        assert!(r.conclusion().contains("does not change"));
        assert!(range(&discover(0), Field::Hops, 0, 300, &mut oracle).is_err());
    }

    #[test]
    fn finds_the_difference_that_matters() {
        // A server that answers only PXE clients with secs >= 2: the failing
        // request differs in secs, vendor class and host name.
        let mut working = discover(21);
        working.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        let mut failing = discover(0);
        failing.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        failing.set_option(code::HOST_NAME, b"vm".to_vec());
        let mut oracle = min_secs(2);
        let r = between(&working, &failing, &mut oracle).unwrap();
        assert_eq!(r.flips.len(), 1);
        assert_eq!(r.flips[0][0].field, "secs");
        assert!(r.conclusion().contains("secs 0 → 21"), "{}", r.conclusion());
    }

    #[test]
    fn pairs_when_no_single_difference_is_enough() {
        let mut working = discover(5);
        working.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        let failing = discover(0);
        let mut oracle = |m: &Message<'static>| {
            Ok(
                if m.secs >= 2 && m.has_option(code::VENDOR_CLASS_IDENTIFIER) {
                    Answer::Answered
                } else {
                    Answer::Silent
                },
            )
        };
        let r = between(&working, &failing, &mut oracle).unwrap();
        assert_eq!(r.flips.len(), 1);
        assert_eq!(r.flips[0].len(), 2);
        let mut oracle = |_: &Message<'static>| Ok(Answer::Silent);
        let r = between(&working, &failing, &mut oracle).unwrap();
        assert!(r.conclusion().starts_with("could not reproduce"));
    }

    /// Guards against one lost reply stating a wrong threshold: a min-secs 2
    /// server whose answer at secs=15 (the first midpoint) is lost once.
    /// Each value used to be asked once, so the boundary moved to 15/16 and
    /// the conclusion said "consistent with ISC dhcpd `min-secs 16`".
    #[test]
    fn one_lost_reply_does_not_make_a_wrong_threshold() {
        let mut lost = false;
        let mut oracle = |m: &Message<'static>| {
            if m.secs == 15 && !lost {
                lost = true;
                return Ok(Answer::Silent);
            }
            Ok(if m.secs >= 2 {
                Answer::Answered
            } else {
                Answer::Silent
            })
        };
        let r = range(&discover(0), Field::Secs, 0, 30, &mut oracle).unwrap();
        let ((a, _), (b, _)) = r.boundary.unwrap();
        assert_eq!((a, b), (1, 2), "{}", r.conclusion());
        assert!(
            r.conclusion().contains("`min-secs 2`"),
            "{}",
            r.conclusion()
        );
        // Both sides of the boundary were asked again.
        let confirmed: Vec<&str> = r
            .tries
            .iter()
            .filter(|t| t.what.contains("(confirming)"))
            .map(|t| t.what.as_str())
            .collect();
        assert_eq!(
            confirmed,
            [
                "secs=1 (confirming)",
                "secs=1 (confirming) again, as it was silent",
                "secs=2 (confirming)"
            ]
        );
    }

    /// Guards the boundary's confirmation: when the two sides, asked again,
    /// answer otherwise than they did (here secs=15 is lost twice, then
    /// answered), the conclusion says the server answered inconsistently
    /// and states no threshold.
    #[test]
    fn a_boundary_that_does_not_hold_is_not_stated() {
        let mut asked_15 = 0;
        let mut oracle = |m: &Message<'static>| {
            if m.secs == 15 {
                asked_15 += 1;
                if asked_15 <= 2 {
                    return Ok(Answer::Silent);
                }
            }
            Ok(if m.secs >= 2 {
                Answer::Answered
            } else {
                Answer::Silent
            })
        };
        let r = range(&discover(0), Field::Secs, 0, 30, &mut oracle).unwrap();
        assert!(r.boundary.is_none(), "{:?}", r.boundary);
        assert_eq!(r.inconsistent, [(15, Answer::Silent, Answer::Answered)]);
        let c = r.conclusion();
        assert!(c.contains("answered inconsistently"), "{c}");
        assert!(c.contains("secs=15 got silent, then answered"), "{c}");
        assert!(!c.contains("min-secs"), "{c}");
    }

    /// Guards NAK versus silent as a change of answer: a server that NAKs
    /// below secs 5 and is silent from 5. The conclusion used to name both
    /// answers yet say secs "does not change the server's answer" (only
    /// answered versus not was a change).
    #[test]
    fn nak_versus_silent_is_a_change() {
        let mut oracle = |m: &Message<'static>| {
            Ok(if m.secs < 5 {
                Answer::Nak
            } else {
                Answer::Silent
            })
        };
        let r = range(&discover(0), Field::Secs, 0, 30, &mut oracle).unwrap();
        let c = r.conclusion();
        assert!(!c.contains("does not change the server's answer"), "{c}");
        assert_eq!(
            r.boundary,
            Some(((4, Answer::Nak), (5, Answer::Silent))),
            "{c}"
        );
        assert_eq!(c, "server silent when secs ≥ 5, NAK when secs ≤ 4");
    }

    /// Guards the wording of `between`'s conclusion: nine differences, the
    /// server answers only when two of them are copied, one of which ranks
    /// ninth. Pairs are tried only among the first eight, yet the conclusion
    /// used to say that no pair of differences works.
    #[test]
    fn between_says_which_pairs_it_tried() {
        let mut working = discover(0);
        let mut failing = discover(0);
        working.secs = 10;
        working.hops = 1;
        working.flags = 0x8000;
        for (c, v) in [
            (code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec()),
            (code::USER_CLASS, b"iPXE".to_vec()),
            (code::CLIENT_SYSTEM_ARCHITECTURE, vec![0, 7]),
            (code::HOST_NAME, b"a".to_vec()),
            (code::DOMAIN_NAME, b"x".to_vec()),
            (12 + 100, b"z".to_vec()),
        ] {
            working.set_option(c, v);
        }
        let diffs = diagnose::diff::requests(&working, &failing);
        assert!(diffs.len() >= 9, "{} differences", diffs.len());
        let last = diffs.last().unwrap().clone();
        let first = diffs.first().unwrap().clone();
        // The server needs the first-ranked and the last-ranked differences.
        let (w2, f2) = (working.clone(), failing.clone());
        let mut both = f2.clone();
        first.apply(&mut both, &w2);
        last.apply(&mut both, &w2);
        let key = move |m: &Message<'static>| {
            let mut a = m.clone();
            first.apply(&mut a, &w2);
            let mut b = m.clone();
            last.apply(&mut b, &w2);
            // m already has both values of `first` and `last` from the working one
            a == *m && b == *m
        };
        let mut oracle = |m: &Message<'static>| {
            Ok(if key(m) {
                Answer::Answered
            } else {
                Answer::Silent
            })
        };
        assert_eq!(oracle(&both).unwrap(), Answer::Answered);
        failing.xid = 2;
        let r = between(&working, &failing, &mut oracle).unwrap();
        let c = r.conclusion();
        assert!(r.flips.is_empty(), "{:?}", r.flips);
        assert_eq!(
            c,
            "no single difference makes the failing request work (9 tried alone), nor any pair of the 8 \
             ranked most likely (28 pairs tried); pairs with the 1 ranked lower and sets of three or more were not \
             tried; each was tried once (a reply lost on the way would hide a flip: run it again to be sure)"
        );
    }

    /// Guards against one lost reply to the working request making the run
    /// "could not reproduce": a silent working request is asked again.
    #[test]
    fn a_lost_reply_to_the_working_request_is_asked_again() {
        let working = discover(10);
        let failing = discover(0);
        let mut first = true;
        let mut oracle = |m: &Message<'static>| {
            if m.secs == 10 && std::mem::replace(&mut first, false) {
                return Ok(Answer::Silent);
            }
            Ok(if m.secs >= 2 {
                Answer::Answered
            } else {
                Answer::Silent
            })
        };
        let r = between(&working, &failing, &mut oracle).unwrap();
        assert_eq!(r.working, Answer::Answered);
        assert!(
            !r.conclusion().starts_with("could not reproduce"),
            "{}",
            r.conclusion()
        );
        assert_eq!(r.flips.len(), 1, "{:?}", r.flips);
    }
}
