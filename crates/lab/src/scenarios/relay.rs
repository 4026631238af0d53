use super::Recording;
use crate::Lab;
use anyhow::{bail, Result};
pub fn run(_lab: &Lab) -> Result<Recording> {
    bail!("not written yet")
}
