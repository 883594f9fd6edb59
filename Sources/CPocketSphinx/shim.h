#pragma once
#include <pocketsphinx.h>
#include <sphinxbase/logmath.h>
