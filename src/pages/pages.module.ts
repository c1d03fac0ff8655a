import { Module } from '@nestjs/common';
import { PAGE_HTML, PagesController } from './pages.controller';
import { loadPages, webRoot } from './pages';

@Module({
  controllers: [PagesController],
  providers: [{ provide: PAGE_HTML, useFactory: () => loadPages(webRoot()) }],
})
export class PagesModule {}
