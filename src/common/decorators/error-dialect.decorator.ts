import { Reflector } from '@nestjs/core';
import { Dialect } from '../errors/dialects';

/** Names the surface a controller serves, so that its errors take that surface's shape. */
export const ErrorDialect = Reflector.createDecorator<Dialect>();
