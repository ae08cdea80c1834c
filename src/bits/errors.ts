// The CF errors a package upload can end in. CC reports unsafe or broken zips as
// AppBitsUploadInvalid (SafeZipper) and size limits as AppPackageInvalid (PackageUpload).
import { apiError, type ApiError } from '../errors/api-error.ts'

export const pathOutsideRoot = (): ApiError => apiError('AppBitsUploadInvalid', 'Relative path(s) outside of root folder')

export const invalidFileName = (name: string): ApiError =>
  apiError('AppBitsUploadInvalid', `Invalid file name ${JSON.stringify(name)}: names must be relative paths using '/'`)

export const symlinkOutsideRoot = (): ApiError => apiError('AppBitsUploadInvalid', 'Symlink(s) point outside of root folder')

export const corruptZip = (reason: string): ApiError => apiError('AppBitsUploadInvalid', `Unzipping had errors: ${reason}`)

export const zipTooLarge = (max: number): ApiError => apiError('AppPackageInvalid', `Package zip may not be larger than ${max} bytes`)

export const unzippedTooLarge = (max: number): ApiError => apiError('AppPackageInvalid', `Package may not be larger than ${max} bytes`)

export const tooManyEntries = (max: number): ApiError => apiError('AppPackageInvalid', `Package may not contain more than ${max} files`)

export const ratioTooHigh = (name: string, max: number): ApiError =>
  apiError('AppPackageInvalid', `File ${JSON.stringify(name)} expands more than ${max} times its compressed size`)
