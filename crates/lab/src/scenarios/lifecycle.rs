use super::Recording;
use crate::Lab;
use anyhow::{bail, Result};
pub fn renew_rebind_release(_lab: &Lab) -> Result<Recording> {
    bail!("not written yet")
}
pub fn decline(_lab: &Lab) -> Result<Recording> {
    bail!("not written yet")
}
