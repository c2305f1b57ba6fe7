// green/green.h: the whole public API of greenbench's fiber runtime, in one include.
// runtime.h: run, spawn, go, JoinHandle, this_task; channel.h: Channel<T>;
// mutex.h: Mutex, CondVar; wait_group.h: WaitGroup; net.h: sockets that park the task.
#pragma once

#include "green/channel.h"
#include "green/mutex.h"
#include "green/net.h"
#include "green/runtime.h"
#include "green/wait_group.h"
