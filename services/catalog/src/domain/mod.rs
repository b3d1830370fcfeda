//! The catalog's pure domain: lifecycles as transition tables and the validation rules of
//! specifications, offerings (with their fulfilment profiles) and price books. No I/O crate is imported here.

pub mod characteristic;
pub mod fulfilment;
pub mod lifecycle;
pub mod offering;
pub mod price_book;
pub mod violation;

domain_kernel::uuid_id!(
    /// Identifies a product specification.
    ProductSpecificationId
);
domain_kernel::uuid_id!(
    /// Identifies a product offering across all its versions.
    ProductOfferingId
);
domain_kernel::uuid_id!(
    /// Identifies a price book across all its versions.
    PriceBookId
);
