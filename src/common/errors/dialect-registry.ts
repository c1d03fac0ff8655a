import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ErrorDialect } from '../decorators/error-dialect.decorator';
import { Dialect } from './dialects';

const split = (path: string): string[] => path.split('/').filter(Boolean);

/**
 * Knows which dialect every route speaks. Errors raised before Nest reaches a handler (a body that is
 * too large, malformed JSON, an unknown path) still need the surface's shape, so the lookup works from
 * the matched route pattern and, for unmatched paths, from the routes that share the longest prefix.
 */
@Injectable()
export class DialectRegistry implements OnApplicationBootstrap {
  private readonly byPattern = new Map<string, Dialect>();
  private readonly patterns: { segments: string[]; dialect: Dialect }[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const base = this.paths(Reflect.getMetadata(PATH_METADATA, metatype));
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as object;
        if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const dialect =
          this.reflector.getAllAndOverride(ErrorDialect, [handler, metatype] as never) ?? ('portal' as Dialect);
        for (const b of base) {
          for (const p of this.paths(Reflect.getMetadata(PATH_METADATA, handler))) {
            this.register('/' + [...split(b), ...split(p)].join('/'), dialect);
          }
        }
      }
    }
  }

  register(pattern: string, dialect: Dialect): void {
    this.byPattern.set(pattern, dialect);
    this.patterns.push({ segments: split(pattern), dialect });
  }

  resolve(routePattern: string | undefined, url: string): Dialect {
    if (routePattern) {
      const exact = this.byPattern.get(routePattern.replace(/\/+$/, '') || '/');
      if (exact) return exact;
    }
    const segments = split(url.split('?')[0]);
    let best = 0;
    const dialects = new Set<Dialect>();
    for (const p of this.patterns) {
      let n = 0;
      while (
        n < segments.length &&
        n < p.segments.length &&
        (p.segments[n] === segments[n] || p.segments[n].startsWith(':'))
      )
        n++;
      if (n > best) {
        best = n;
        dialects.clear();
      }
      if (n === best && n > 0) dialects.add(p.dialect);
    }
    return dialects.size === 1 ? [...dialects][0] : 'portal';
  }

  private paths(value: unknown): string[] {
    if (Array.isArray(value)) return value.map(String);
    return [typeof value === 'string' ? value : '/'];
  }
}
