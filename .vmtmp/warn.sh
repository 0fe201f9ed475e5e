#!/bin/sh
insmod .vmtmp/warnmod.ko
