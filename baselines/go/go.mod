module greenbench/baselines/go

go 1.19
