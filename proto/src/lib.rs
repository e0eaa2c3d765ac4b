//! grove-proto: the gRPC contract.
