// green/green.h: the whole public API of greenbench's fiber runtime, in one include.
// runtime.h: run, spawn, spawn_on, go, JoinHandle, this_task; channel.h: Channel<T>;
// blocking.h: blocking(f) for calls that block the thread;
// mutex.h: Mutex, CondVar; wait_group.h: WaitGroup; net.h: sockets that park the task.
#pragma once

#include "green/blocking.h"
#include "green/channel.h"
#include "green/mutex.h"
#include "green/net.h"
#include "green/runtime.h"
#include "green/wait_group.h"
