// The command line: `autopilot [-config FILE]` runs the supervisor;
// `-version`, `-template [-out FILE]` and `check` do one thing and exit.
// Flags take one dash or two (`-config` as ContainerPilot, `--config`).
#pragma once

namespace autopilot::app {

// Parses argv and runs the chosen command; returns the process exit status
// (2 for a bad command line or config).
int main_command(int argc, char** argv, char** envp);

}  // namespace autopilot::app
