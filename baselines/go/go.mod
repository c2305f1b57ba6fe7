// greenbench's Go peer (greenbench-go). Standard library only: no require
// lines, so building it never needs the network or a module proxy.
module greenbench/baselines/go

go 1.19
