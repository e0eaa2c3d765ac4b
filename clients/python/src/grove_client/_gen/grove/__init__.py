"""Generated from proto/proto/grove/v1 by tools/gen_stubs.py. Do not edit."""
