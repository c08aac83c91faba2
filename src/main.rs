fn main() -> std::process::ExitCode {
    mcpctl::main_entry()
}
