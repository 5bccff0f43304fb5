//! meshsim's own `proxies` table.
