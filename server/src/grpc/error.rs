//! The one place where service errors become gRPC statuses.

use tonic::{Code, Status};

use crate::service::ServiceError;

/// gRPC code of a service error.
pub fn code_of(e: &ServiceError) -> Code {
    match e {
        ServiceError::InvalidArgument(_) | ServiceError::Unprocessable(_) => Code::InvalidArgument,
        ServiceError::NotFound(_) => Code::NotFound,
        ServiceError::AlreadyExists(_) => Code::AlreadyExists,
        ServiceError::Unauthenticated(_) => Code::Unauthenticated,
        ServiceError::PermissionDenied(_) => Code::PermissionDenied,
        ServiceError::LimitExceeded(_) => Code::InvalidArgument,
        ServiceError::Unavailable(_) => Code::Unavailable,
        ServiceError::Timeout(_) | ServiceError::Stopped(_) => Code::DeadlineExceeded,
        ServiceError::Internal(_) => Code::Internal,
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        // Display of Internal is a fixed "internal error": the detail was logged, never sent.
        Status::new(code_of(&e), e.to_string())
    }
}
