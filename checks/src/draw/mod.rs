//! Pictures of a topology: [`diagram`] (what is shown: nodes by role,
//! marks, edges with an MTU per end, failing paths), [`layout`] (where it
//! goes, with the label boxes the tests check), [`svg`] and [`dot`]
//! (renderings). Used by `mtulab draw` and the HTML report ([`crate::html`]).

pub mod diagram;
pub mod dot;
pub mod layout;
pub mod svg;

pub use diagram::Diagram;
pub use layout::{layout, Layout};

#[cfg(test)]
mod tests;
