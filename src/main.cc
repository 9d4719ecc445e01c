// autopilot: a container supervisor. main only hands over to the command line.
#include "app/commands.h"

int main(int argc, char** argv, char** envp) { return autopilot::app::main_command(argc, argv, envp); }
