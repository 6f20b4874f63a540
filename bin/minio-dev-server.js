#!/usr/bin/env node
import { main } from '../dist/devserver/main.js';

main(process.argv);
