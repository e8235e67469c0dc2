module consumerd.dev/bench/wait_server

go 1.26.0
